/*
 * Blocking read(2)/write(2), each on a thread of its own.
 *
 * FunctionFS endpoint files have no .poll (epoll_ctl answers EPERM, usb.md
 * §A4), so their I/O must block somewhere other than the event loop; libuv's
 * pool has 4 threads that a few idle endpoints would hold forever, starving
 * fs and dns. So each call gets a small detached-until-delivered pthread that
 * makes the one syscall and hands the result to the loop through the
 * environment's threadsafe function, referenced only while calls are pending.
 *
 * Cancellation (AbortSignal, close of the fd) interrupts the thread with
 * INTERRUPT_SIGNAL, whose handler does nothing and is installed without
 * SA_RESTART, so the blocked syscall returns EINTR (FunctionFS dequeues its
 * request first, and keeps a result that completed meanwhile). A signal that
 * lands after the thread checked its cancel flag but before it entered the
 * syscall would be lost, so cancelling arms a POSIX timer that repeats the
 * signal to that thread until it reports back; the kernel, not the loop,
 * re-sends, so it also works during environment teardown.
 *
 * The thread works on a dup of the caller's fd: the fd number may be closed
 * and reused by the time the thread enters the syscall, the dup may not. The
 * caller's bytes and callback are held by references until delivery.
 */
#include "blocking.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id /* glibc before 2.41 names only the union member */
#define sigev_notify_thread_id _sigev_un._tid
#endif

/*
 * A realtime signal nobody else in a Node process uses: glibc keeps the
 * first two for itself (SIGRTMIN is above them), Node, libuv and V8 use
 * none (V8's profiler takes SIGPROF, the inspector SIGUSR1), and a
 * JavaScript process.on() cannot name realtime signals. +5 leaves the lowest
 * ones to libraries that take SIGRTMIN itself.
 */
#define INTERRUPT_SIGNAL (SIGRTMIN + 5)
/* How often an interrupt is repeated until the thread reports back. */
#define INTERRUPT_REPEAT_NS 5000000L
#define THREAD_STACK (64 * 1024)

typedef struct blocking_call {
  struct blocking_call *prev, *next; /* the hub's calls not yet delivered */
  blocking_hub *hub;
  double id;
  pthread_t thread;
  pid_t tid;     /* the thread's, once it runs */
  int fd;        /* a dup of the caller's fd, closed by the thread */
  int write;
  void *data;
  size_t len;
  napi_ref bytes, done;
  int cancelled; /* written under the lock, read by the thread without it */
  int finished;  /* the syscall is over: the thread touches no JS memory any more */
  int timer_armed;
  timer_t timer;
  int64_t result; /* the count, or -errno */
  int interrupted; /* ended by a cancel, with no result */
} blocking_call;

struct blocking_hub {
  pthread_mutex_t lock;
  pthread_cond_t finished; /* broadcast whenever a call finishes */
  blocking_call *calls;
  napi_threadsafe_function tsfn;
  int gone;      /* the threadsafe function is finalized: threads must not call it */
  unsigned refs; /* the environment's state, the threadsafe function, each thread */
  unsigned pending; /* loop thread only: calls started and not delivered */
  double next_id;
};

static void on_interrupt(int sig) { (void)sig; }

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_error; /* set once, by install_handler */

/* Process-wide, once: the handler is stateless, so every environment shares it. */
static void install_handler(void) {
  struct sigaction old, sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigfillset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: the blocked syscall must return EINTR */
  if (sigaction(INTERRUPT_SIGNAL, NULL, &old) < 0) handler_error = errno;
  else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) handler_error = EBUSY; /* someone else's */
  else if (sigaction(INTERRUPT_SIGNAL, &sa, NULL) < 0) handler_error = errno;
}

static void hub_unref_locked(blocking_hub *h, int *last) {
  *last = --h->refs == 0;
}

static void hub_free(blocking_hub *h) {
  pthread_cond_destroy(&h->finished);
  pthread_mutex_destroy(&h->lock);
  free(h);
}

static void unlink_call(blocking_call *c) {
  blocking_hub *h = c->hub;
  if (c->prev) c->prev->next = c->next;
  else h->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

/* Under the lock: mark the call cancelled and, if its thread runs, interrupt it until it reports. */
static void cancel_locked(blocking_call *c) {
  if (c->finished || c->cancelled) return;
  __atomic_store_n(&c->cancelled, 1, __ATOMIC_RELEASE);
  if (c->tid == 0) return; /* it will see the flag before its syscall */
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = INTERRUPT_SIGNAL;
  sev.sigev_notify_thread_id = c->tid;
  if (timer_create(CLOCK_MONOTONIC, &sev, &c->timer) == 0) {
    struct itimerspec at = {.it_value = {0, 1}, .it_interval = {0, INTERRUPT_REPEAT_NS}};
    c->timer_armed = 1;
    timer_settime(c->timer, 0, &at, NULL);
  } else {
    tgkill(getpid(), c->tid, INTERRUPT_SIGNAL); /* out of timers: one try */
  }
}

static void *blocking_thread(void *arg) {
  blocking_call *c = arg;
  blocking_hub *h = c->hub;
  pthread_mutex_lock(&h->lock);
  c->tid = gettid();
  int skip = c->cancelled;
  pthread_mutex_unlock(&h->lock);

  ssize_t n = -1;
  int err = 0;
  if (!skip) {
    do {
      n = c->write ? write(c->fd, c->data, c->len) : read(c->fd, c->data, c->len);
      err = n < 0 ? errno : 0;
    } while (n < 0 && err == EINTR && !__atomic_load_n(&c->cancelled, __ATOMIC_ACQUIRE));
  }
  close(c->fd);

  pthread_mutex_lock(&h->lock);
  c->finished = 1;
  if (c->timer_armed) timer_delete(c->timer);
  c->result = n >= 0 ? n : -err;
  c->interrupted = n < 0 && (skip || err == EINTR);
  pthread_cond_broadcast(&h->finished);
  /* Once the threadsafe function is finalized (environment teardown) it must not be called. */
  int queued = !h->gone && napi_call_threadsafe_function(h->tsfn, c, napi_tsfn_nonblocking) == napi_ok;
  if (!queued) { /* nobody will deliver it: its references went with the environment */
    unlink_call(c);
    pthread_detach(pthread_self());
    free(c);
  }
  int last;
  hub_unref_locked(h, &last);
  pthread_mutex_unlock(&h->lock);
  if (last) hub_free(h);
  return NULL;
}

/* On the loop thread (env NULL when the queue is emptied at teardown). */
static void deliver(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  blocking_hub *h = context;
  blocking_call *c = data;
  pthread_join(c->thread, NULL); /* it is past its last use of the call: only a return is left */
  pthread_mutex_lock(&h->lock);
  unlink_call(c);
  pthread_mutex_unlock(&h->lock);
  if (env != NULL) {
    napi_value done, recv, argv[2], ignored;
    if (--h->pending == 0) napi_unref_threadsafe_function(env, h->tsfn);
    if (napi_get_reference_value(env, c->done, &done) == napi_ok && done != NULL &&
        napi_get_undefined(env, &recv) == napi_ok &&
        napi_create_int64(env, c->result, &argv[0]) == napi_ok &&
        napi_get_boolean(env, c->interrupted, &argv[1]) == napi_ok)
      napi_call_function(env, recv, done, 2, argv, &ignored);
    napi_delete_reference(env, c->done);
    napi_delete_reference(env, c->bytes);
  }
  free(c);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  blocking_hub *h = data;
  int last;
  pthread_mutex_lock(&h->lock);
  h->gone = 1;
  hub_unref_locked(h, &last);
  pthread_mutex_unlock(&h->lock);
  if (last) hub_free(h);
}

static blocking_hub *hub_create(napi_env env) {
  napi_value name;
  blocking_hub *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->finished, NULL);
  h->refs = 2; /* the environment's state and the threadsafe function */
  if (napi_create_string_utf8(env, "iiojs:blocking-io", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, h, tsfn_finalize, h, deliver,
                                      &h->tsfn) != napi_ok) {
    hub_free(h);
    return NULL;
  }
  napi_unref_threadsafe_function(env, h->tsfn); /* idle: keeps nothing alive */
  return h;
}

napi_value blocking_start(napi_env env, napi_callback_info info, blocking_hub **hub) {
  napi_value argv[4];
  int fd;
  bool write;
  void *data;
  size_t len;
  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!get_bytes(env, argv[1], &data, &len))
    return throw_type(env, "bytes must be an ArrayBuffer or ArrayBufferView");
  if (data == NULL) len = 0; /* detached, or empty */
  if (!is_type(env, argv[2], napi_boolean) || napi_get_value_bool(env, argv[2], &write) != napi_ok)
    return throw_type(env, "write must be a boolean");
  if (!is_type(env, argv[3], napi_function)) return throw_type(env, "done must be a function");

  pthread_once(&handler_once, install_handler);
  if (handler_error != 0) return make_int(env, -handler_error);
  if (*hub == NULL && (*hub = hub_create(env)) == NULL) return make_int(env, -ENOMEM);
  blocking_hub *h = *hub;

  blocking_call *c = calloc(1, sizeof *c);
  if (c == NULL) return make_int(env, -ENOMEM);
  c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (c->fd < 0) {
    int err = errno;
    free(c);
    return make_int(env, -err);
  }
  c->hub = h;
  c->write = write;
  c->data = data;
  c->len = len;
  if (napi_create_reference(env, argv[1], 1, &c->bytes) != napi_ok) goto fail_fd;
  if (napi_create_reference(env, argv[3], 1, &c->done) != napi_ok) goto fail_bytes;

  pthread_mutex_lock(&h->lock);
  double id = c->id = ++h->next_id;
  c->next = h->calls;
  if (h->calls) h->calls->prev = c;
  h->calls = c;
  h->refs++;
  pthread_mutex_unlock(&h->lock);

  /* The thread takes only INTERRUPT_SIGNAL: process signals must not make its syscall EINTR. */
  pthread_attr_t attr;
  sigset_t all, saved;
  size_t stack = THREAD_STACK < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN : THREAD_STACK;
  sigfillset(&all);
  sigdelset(&all, INTERRUPT_SIGNAL);
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  int rc = pthread_create(&c->thread, &attr, blocking_thread, c);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    int last;
    pthread_mutex_lock(&h->lock);
    unlink_call(c);
    hub_unref_locked(h, &last); /* never the last: the state holds one */
    pthread_mutex_unlock(&h->lock);
    napi_delete_reference(env, c->done);
    napi_delete_reference(env, c->bytes);
    close(c->fd);
    free(c);
    return make_int(env, -rc);
  }
  if (h->pending++ == 0) napi_ref_threadsafe_function(env, h->tsfn);
  napi_value id_value;
  CHECK(napi_create_double(env, id, &id_value)); /* the call belongs to its thread now */
  return id_value;

fail_bytes:
  napi_delete_reference(env, c->bytes);
fail_fd:
  close(c->fd);
  free(c);
  return NULL;
}

napi_value blocking_cancel(napi_env env, napi_callback_info info, blocking_hub *h) {
  napi_value argv[1];
  int64_t id;
  if (!get_args(env, info, 1, argv) ||
      !get_integer(env, argv[0], 1, 9007199254740991.0, "call id", &id))
    return NULL;
  int found = 0;
  if (h != NULL) {
    pthread_mutex_lock(&h->lock);
    for (blocking_call *c = h->calls; c != NULL; c = c->next) {
      if (c->id == (double)id) {
        cancel_locked(c);
        found = 1;
        break;
      }
    }
    pthread_mutex_unlock(&h->lock);
  }
  return make_int(env, found ? 0 : -ENOENT);
}

void blocking_teardown(blocking_hub *h) {
  if (h == NULL) return;
  pthread_mutex_lock(&h->lock);
  for (blocking_call *c = h->calls; c != NULL; c = c->next) cancel_locked(c);
  /* The environment frees the callers' buffers next: no syscall may still be writing them. */
  for (;;) {
    blocking_call *c = h->calls;
    while (c != NULL && c->finished) c = c->next;
    if (c == NULL) break;
    pthread_cond_wait(&h->finished, &h->lock);
  }
  pthread_mutex_unlock(&h->lock);
}

void blocking_release(blocking_hub *h) {
  if (h == NULL) return;
  int last;
  pthread_mutex_lock(&h->lock);
  hub_unref_locked(h, &last);
  pthread_mutex_unlock(&h->lock);
  if (last) hub_free(h);
}
