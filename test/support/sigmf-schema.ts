// SigMF's own schema (../shared/fixtures/sigmf/sigmf-schema.json, v1.2.5), as a validator.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readShared } from './shared.js';

const schema = JSON.parse(readShared('fixtures/sigmf/sigmf-schema.json')) as object;

/** The schema's complaints about `meta`, or [] when it validates. */
export function sigmfSchemaErrors(meta: unknown): string[] {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, unicodeRegExp: false }) // the schema's patterns escape ':' (invalid with the u flag);
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  return validate(meta) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** The ramp of the built-in adc4's voltage2 (scenario.ts): -32000, step 16, period 4000. */
export function checkRamp(values: ArrayLike<number>): void {
  if (values.length < 2) throw new Error('too few samples to check a ramp');
  for (let i = 1; i < values.length; i++) {
    const step = values[i]! - values[i - 1]!;
    const wrap = values[i - 1] === -32000 + 16 * 3999 && values[i] === -32000;
    if (step !== 16 && !wrap) throw new Error(`sample ${i}: ${values[i - 1]} then ${values[i]}, not the ramp's next value`);
    if ((values[i]! + 32000) % 16 !== 0) throw new Error(`sample ${i}: ${values[i]} is no value of the ramp`);
  }
}
