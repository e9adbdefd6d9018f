// The library's version, as contexts report it (XML `version-major/minor/git`, iiod VERSION).
// Kept equal to package.json's by test/library-xml.test.ts.
export const IIOJS_VERSION = Object.freeze({ major: 0, minor: 1, patch: 0, git: 'v0.1.0' });
/** `major.minor.patch`, as package.json writes it. */
export const IIOJS_VERSION_TEXT = `${IIOJS_VERSION.major}.${IIOJS_VERSION.minor}.${IIOJS_VERSION.patch}`;
