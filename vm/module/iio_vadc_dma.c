// SPDX-License-Identifier: GPL-2.0
/*
 * iiojs real-kernel lab: IIO devices whose buffers use the kernel's DMA buffer helpers
 * (industrialio-buffer-dma, the same access functions as the dmaengine buffer), so they support
 * DMABUF attach/detach/enqueue, with a software "DMA" done by a work item.
 *
 *  vadc-dma  2 x le:u16 ADC, the device of the Linux 6.12 probe recording: every sample is the
 *            next value of a 16-bit counter running over the whole stream.
 *  lab-adc   4-channel ADC of mixed formats + timestamp: scan n holds u16 n, s16 -n,
 *            u32 3n and be:s12/16>>4 of n; the timestamp is n.
 *  lab-dac   2 x le:u16 output: consumes blocks; received_bytes and checksum (32-bit FNV-1a
 *            over every byte received, as the simulated kernel's playback checksum) show what
 *            arrived.
 *
 * Module parameters (writable at /sys/module/iio_vadc_dma/parameters/):
 *  delay_us  time each block spends "in DMA"        null_dma   complete without touching data
 *  stall     blocks stop completing while set      fail_next  next submit fails with -fail_next
 *  unplug    write 1: unregister every device now, as rmmod would, but keep the module's code
 *            loaded: an IIO buffer fd does not pin the module, and closing one after a real rmmod
 *            runs the unloaded buffer ops (an oops). Write 0: register the devices that are
 *            gone again, as a driver re-probe does (the same iio:deviceN, new sysfs nodes).
 * Device attribute completed_bytes counts bytes the "DMA" finished (throughput from the device).
 */
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/iio/buffer-dma.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/workqueue.h>

static unsigned int delay_us = 1000;
module_param(delay_us, uint, 0644);
MODULE_PARM_DESC(delay_us, "time each block spends in the simulated DMA");
static bool null_dma;
module_param(null_dma, bool, 0644);
MODULE_PARM_DESC(null_dma, "complete blocks without touching their memory");
static bool stall;
module_param(stall, bool, 0644);
MODULE_PARM_DESC(stall, "stop completing blocks while set");
static int fail_next;
module_param(fail_next, int, 0644);
MODULE_PARM_DESC(fail_next, "errno the next submitted block fails with (once)");

enum lab_kind { LAB_VADC, LAB_ADC, LAB_DAC };

struct lab_buffer {
	struct iio_dma_buffer_queue queue;
	struct iio_dev *indio_dev;
	enum lab_kind kind;
	struct list_head active; /* submitted blocks, under queue.list_lock */
	struct delayed_work work;
	u64 sample;		 /* next sample (vadc) or scan (adc) number */
	u8 scan[32];		 /* lab-adc: the scan being written, */
	unsigned int scan_size, emitted; /* its size and the bytes of it already written */
	atomic64_t completed_bytes;
	u64 received_bytes;
	u32 checksum;
};

static struct lab_buffer *to_lab(struct iio_buffer *buffer)
{
	return container_of(buffer, struct lab_buffer, queue.buffer);
}

/* The IIO device's private data is a handle to its buffer (which the IIO core refcounts). */
static struct lab_buffer *lab_of(struct device *dev)
{
	return *(struct lab_buffer **)iio_priv(dev_to_iio_dev(dev));
}

#define LAB_TIMESTAMP 4 /* lab-adc's timestamp scan index: enabled apart from the mask */

/* The scan size and each enabled element's offset, as kernel-abi §6.5 lays them out. */
static unsigned int lab_scan_layout(struct iio_dev *indio_dev, unsigned int *offsets)
{
	unsigned int bytes = 0, largest = 1, i;

	for_each_set_bit(i, indio_dev->active_scan_mask, iio_get_masklength(indio_dev)) {
		unsigned int len = indio_dev->channels[i].scan_type.storagebits / 8;

		if (i == LAB_TIMESTAMP)
			continue;
		bytes = ALIGN(bytes, len);
		offsets[i] = bytes;
		bytes += len;
		largest = max(largest, len);
	}
	if (indio_dev->scan_timestamp) {
		bytes = ALIGN(bytes, 8);
		offsets[LAB_TIMESTAMP] = bytes;
		bytes += 8;
		largest = 8;
	}
	return ALIGN(bytes, largest);
}

/* lab-adc's scan n with the active mask, into `scan` (at most 32 bytes); returns its size. */
static unsigned int lab_render_scan(struct iio_dev *indio_dev, u64 n, u8 *scan)
{
	unsigned int offsets[8] = { 0 }, size = lab_scan_layout(indio_dev, offsets), i;

	memset(scan, 0, size);
	for_each_set_bit(i, indio_dev->active_scan_mask, iio_get_masklength(indio_dev)) {
		u8 *p = scan + offsets[i];

		switch (i) {
		case 0: put_unaligned_le16((u16)n, p); break;
		case 1: put_unaligned_le16((u16)(s16)-(s64)(n & 0x7fff), p); break;
		case 2: put_unaligned_le32((u32)(3 * n), p); break;
		case 3: put_unaligned_be16((u16)((n & 0x7ff) << 4), p); break;
		}
	}
	if (indio_dev->scan_timestamp)
		put_unaligned_le64(n, scan + offsets[LAB_TIMESTAMP]);
	return size;
}

/*
 * Fills `len` bytes at `dst` with the device's pattern, continuing the stream. A DMABUF arrives
 * as scattered segments, so a scan may straddle two of them: `emitted` bytes of the current
 * scan were already written to the previous segment.
 */
static void lab_fill(struct lab_buffer *lb, u8 *dst, size_t len)
{
	if (lb->kind == LAB_VADC) {
		size_t pos;

		for (pos = 0; pos + 2 <= len; pos += 2)
			put_unaligned_le16((u16)lb->sample++, dst + pos);
		return;
	}
	while (len) {
		size_t n;

		if (lb->emitted == 0)
			lb->scan_size = lab_render_scan(lb->indio_dev, lb->sample++, lb->scan);
		if (!lb->scan_size)
			return;
		n = min_t(size_t, len, lb->scan_size - lb->emitted);
		memcpy(dst, lb->scan + lb->emitted, n);
		dst += n;
		len -= n;
		lb->emitted = (lb->emitted + n) % lb->scan_size;
	}
}

static void lab_consume(struct lab_buffer *lb, const u8 *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		lb->checksum = (lb->checksum ^ src[i]) * 0x01000193;
	lb->received_bytes += len;
}

/* The memory of a block: its vaddr (file I/O) or, for DMABUFs, each mapped segment. */
static void lab_transfer(struct lab_buffer *lb, struct iio_dma_buffer_block *block)
{
	struct device *dev = lb->queue.dev;
	size_t left = block->bytes_used;
	struct scatterlist *sg;
	unsigned int i;

	if (null_dma)
		return;
	if (!block->sg_table) {
		if (lb->kind == LAB_DAC)
			lab_consume(lb, block->vaddr, left);
		else
			lab_fill(lb, block->vaddr, left);
		return;
	}
	for_each_sgtable_dma_sg(block->sg_table, sg, i) {
		size_t len = min_t(size_t, sg_dma_len(sg), left);
		u8 *p = phys_to_virt(dma_to_phys(dev, sg_dma_address(sg)));

		if (!len)
			break;
		if (lb->kind == LAB_DAC)
			lab_consume(lb, p, len);
		else
			lab_fill(lb, p, len);
		left -= len;
	}
}

static void lab_work(struct work_struct *work)
{
	struct lab_buffer *lb = container_of(to_delayed_work(work), struct lab_buffer, work);
	struct iio_dma_buffer_block *block;

	if (READ_ONCE(stall)) {
		schedule_delayed_work(&lb->work, msecs_to_jiffies(10));
		return;
	}
	spin_lock_irq(&lb->queue.list_lock);
	block = list_first_entry_or_null(&lb->active, struct iio_dma_buffer_block, head);
	if (block)
		list_del(&block->head);
	spin_unlock_irq(&lb->queue.list_lock);
	if (!block)
		return;

	lab_transfer(lb, block);
	atomic64_add(block->bytes_used, &lb->completed_bytes);
	iio_dma_buffer_block_done(block);

	spin_lock_irq(&lb->queue.list_lock);
	if (!list_empty(&lb->active))
		schedule_delayed_work(&lb->work, usecs_to_jiffies(delay_us));
	spin_unlock_irq(&lb->queue.list_lock);
}

/* Called under queue->list_lock in a fence-signalling section: no sleeping, no allocation. */
static int lab_submit(struct iio_dma_buffer_queue *queue, struct iio_dma_buffer_block *block)
{
	struct lab_buffer *lb = to_lab(&queue->buffer);
	int err = READ_ONCE(fail_next);

	if (err > 0) {
		WRITE_ONCE(fail_next, 0);
		return -err;
	}
	if (!block->sg_table && queue->buffer.direction == IIO_BUFFER_DIRECTION_IN)
		block->bytes_used = block->size;
	list_add_tail(&block->head, &lb->active);
	schedule_delayed_work(&lb->work, usecs_to_jiffies(delay_us));
	return 0;
}

static void lab_abort(struct iio_dma_buffer_queue *queue)
{
	struct lab_buffer *lb = to_lab(&queue->buffer);

	cancel_delayed_work_sync(&lb->work);
	iio_dma_buffer_block_list_abort(queue, &lb->active);
}

static const struct iio_dma_buffer_ops lab_dma_ops = {
	.submit = lab_submit,
	.abort = lab_abort,
};

static void lab_buffer_release(struct iio_buffer *buffer)
{
	struct lab_buffer *lb = to_lab(buffer);

	iio_dma_buffer_release(&lb->queue);
	kfree(lb);
}

static const struct iio_buffer_access_funcs lab_access = {
	.read = iio_dma_buffer_read,
	.write = iio_dma_buffer_write,
	.set_bytes_per_datum = iio_dma_buffer_set_bytes_per_datum,
	.set_length = iio_dma_buffer_set_length,
	.request_update = iio_dma_buffer_request_update,
	.enable = iio_dma_buffer_enable,
	.disable = iio_dma_buffer_disable,
	.data_available = iio_dma_buffer_usage,
	.space_available = iio_dma_buffer_usage,
	.release = lab_buffer_release,
	.enqueue_dmabuf = iio_dma_buffer_enqueue_dmabuf,
	.attach_dmabuf = iio_dma_buffer_attach_dmabuf,
	.detach_dmabuf = iio_dma_buffer_detach_dmabuf,
	.lock_queue = iio_dma_buffer_lock_queue,
	.unlock_queue = iio_dma_buffer_unlock_queue,
	.get_dma_dev = iio_dma_buffer_get_dma_dev,
	.modes = INDIO_BUFFER_HARDWARE,
	.flags = INDIO_BUFFER_FLAG_FIXED_WATERMARK,
};

/* ---- devices ------------------------------------------------------------------------------ */

#define LAB_CHAN(idx, out, sgn, real, storage, shft, endian)                                     \
	{                                                                                         \
		.type = IIO_VOLTAGE, .indexed = 1, .channel = idx, .output = out, .scan_index = idx, \
		.scan_type = { .sign = sgn, .realbits = real, .storagebits = storage,              \
			       .shift = shft, .endianness = endian },                                 \
	}

static const struct iio_chan_spec vadc_channels[] = {
	LAB_CHAN(0, 0, 'u', 16, 16, 0, IIO_LE),
	LAB_CHAN(1, 0, 'u', 16, 16, 0, IIO_LE),
};

static const struct iio_chan_spec adc_channels[] = {
	LAB_CHAN(0, 0, 'u', 16, 16, 0, IIO_LE),
	LAB_CHAN(1, 0, 's', 16, 16, 0, IIO_LE),
	LAB_CHAN(2, 0, 'u', 32, 32, 0, IIO_LE),
	LAB_CHAN(3, 0, 's', 12, 16, 4, IIO_BE),
	IIO_CHAN_SOFT_TIMESTAMP(4),
};

static const struct iio_chan_spec dac_channels[] = {
	LAB_CHAN(0, 1, 'u', 16, 16, 0, IIO_LE),
	LAB_CHAN(1, 1, 'u', 16, 16, 0, IIO_LE),
};

static ssize_t completed_bytes_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct lab_buffer *lb = lab_of(dev);

	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&lb->completed_bytes));
}
static IIO_DEVICE_ATTR_RO(completed_bytes, 0);

static ssize_t received_bytes_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct lab_buffer *lb = lab_of(dev);

	return sysfs_emit(buf, "%llu\n", lb->received_bytes);
}
static IIO_DEVICE_ATTR_RO(received_bytes, 0);

static ssize_t checksum_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct lab_buffer *lb = lab_of(dev);

	return sysfs_emit(buf, "%u\n", lb->checksum);
}
static IIO_DEVICE_ATTR_RO(checksum, 0);

static struct attribute *lab_attrs[] = {
	&iio_dev_attr_completed_bytes.dev_attr.attr,
	&iio_dev_attr_received_bytes.dev_attr.attr,
	&iio_dev_attr_checksum.dev_attr.attr,
	NULL,
};
static const struct attribute_group lab_attr_group = { .attrs = lab_attrs };
static const struct iio_info lab_info = { .attrs = &lab_attr_group };
/* vadc-dma has exactly the sysfs files of the probe recording. */
static const struct iio_info vadc_info = { };

struct lab_spec {
	const char *name;
	enum lab_kind kind;
	const struct iio_chan_spec *channels;
	unsigned int num_channels;
	enum iio_buffer_direction direction;
	const struct iio_info *info;
};

static const struct lab_spec lab_specs[] = {
	{ "vadc-dma", LAB_VADC, vadc_channels, ARRAY_SIZE(vadc_channels), IIO_BUFFER_DIRECTION_IN, &vadc_info },
	{ "lab-adc", LAB_ADC, adc_channels, ARRAY_SIZE(adc_channels), IIO_BUFFER_DIRECTION_IN, &lab_info },
	{ "lab-dac", LAB_DAC, dac_channels, ARRAY_SIZE(dac_channels), IIO_BUFFER_DIRECTION_OUT, &lab_info },
};

struct lab_device {
	struct iio_dev *indio_dev;
	struct lab_buffer *buffer;
};

static struct platform_device *lab_pdev;
static struct lab_device lab_devices[ARRAY_SIZE(lab_specs)];
static DEFINE_MUTEX(lab_lock);

static int lab_add(struct device *parent, const struct lab_spec *spec, struct lab_device *ld)
{
	struct iio_dev *indio_dev;
	struct lab_buffer *lb;
	int ret;

	indio_dev = iio_device_alloc(parent, sizeof(struct lab_buffer *));
	if (!indio_dev)
		return -ENOMEM;
	lb = kzalloc(sizeof(*lb), GFP_KERNEL);
	if (!lb) {
		iio_device_free(indio_dev);
		return -ENOMEM;
	}
	lb->indio_dev = indio_dev;
	lb->kind = spec->kind;
	lb->checksum = 0x811c9dc5; /* FNV-1a offset basis */
	INIT_LIST_HEAD(&lb->active);
	INIT_DELAYED_WORK(&lb->work, lab_work);
	iio_dma_buffer_init(&lb->queue, parent, &lab_dma_ops);
	lb->queue.buffer.access = &lab_access;
	lb->queue.buffer.direction = spec->direction;

	indio_dev->name = spec->name;
	indio_dev->channels = spec->channels;
	indio_dev->num_channels = spec->num_channels;
	indio_dev->info = spec->info;
	indio_dev->modes = INDIO_DIRECT_MODE | INDIO_BUFFER_HARDWARE;
	*(struct lab_buffer **)iio_priv(indio_dev) = lb;

	ret = iio_device_attach_buffer(indio_dev, &lb->queue.buffer);
	if (ret)
		goto err;
	ret = iio_device_register(indio_dev);
	if (ret)
		goto err;
	ld->indio_dev = indio_dev;
	ld->buffer = lb;
	return 0;
err:
	iio_dma_buffer_exit(&lb->queue);
	iio_buffer_put(&lb->queue.buffer);
	iio_device_free(indio_dev);
	return ret;
}

static void lab_remove_one(struct lab_device *ld)
{
	if (!ld->indio_dev)
		return;
	iio_device_unregister(ld->indio_dev); /* disables the buffers: the abort path */
	cancel_delayed_work_sync(&ld->buffer->work);
	iio_dma_buffer_exit(&ld->buffer->queue);
	iio_buffer_put(&ld->buffer->queue.buffer);
	iio_device_free(ld->indio_dev);
	ld->indio_dev = NULL;
}

static void lab_remove_all(void)
{
	unsigned int i = ARRAY_SIZE(lab_specs);

	mutex_lock(&lab_lock);
	while (i--)
		lab_remove_one(&lab_devices[i]);
	mutex_unlock(&lab_lock);
}

/* Registers every device that is not registered, in order (so each gets its old id back). */
static int lab_add_missing(void)
{
	unsigned int i;
	int ret = 0;

	mutex_lock(&lab_lock);
	for (i = 0; !ret && i < ARRAY_SIZE(lab_specs); i++)
		if (!lab_devices[i].indio_dev)
			ret = lab_add(&lab_pdev->dev, &lab_specs[i], &lab_devices[i]);
	mutex_unlock(&lab_lock);
	return ret;
}

static int lab_unplug_set(const char *val, const struct kernel_param *kp)
{
	bool unplug;
	int ret = kstrtobool(val, &unplug);

	if (ret)
		return ret;
	if (!unplug)
		return lab_add_missing();
	lab_remove_all();
	return 0;
}

static const struct kernel_param_ops lab_unplug_ops = { .set = lab_unplug_set };
module_param_cb(unplug, &lab_unplug_ops, NULL, 0200);
MODULE_PARM_DESC(unplug, "write 1 to unregister the devices (rmmod without unloading the code), 0 to register them again");

static int __init lab_init(void)
{
	int ret;

	lab_pdev = platform_device_register_simple("iio-vadc-dma", -1, NULL, 0);
	if (IS_ERR(lab_pdev))
		return PTR_ERR(lab_pdev);
	/* DMABUF attachments are mapped for this device: it needs a DMA mask. */
	ret = dma_coerce_mask_and_coherent(&lab_pdev->dev, DMA_BIT_MASK(64));
	if (!ret)
		ret = lab_add_missing();
	if (ret) {
		lab_remove_all();
		platform_device_unregister(lab_pdev);
	}
	return ret;
}

static void __exit lab_exit(void)
{
	lab_remove_all();
	platform_device_unregister(lab_pdev);
}

module_init(lab_init);
module_exit(lab_exit);
MODULE_DESCRIPTION("iiojs real-kernel lab: DMABUF-capable IIO test devices");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IIO_DMA_BUFFER);
