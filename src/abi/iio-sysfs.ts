// How the IIO core spells its enums in sysfs attribute names (industrialio-core.c, Linux 6.12;
// kernel-abi §6.2). Shared by the simulated kernel, which writes these names, and the name parser
// (src/format/attr-names.ts) the local and ip: backends read them with.

/** `iio_chan_type_name_spec`: the sysfs name of each `enum iio_chan_type` (index = enum value). */
export const IIO_CHAN_TYPE_NAMES: readonly string[] = Object.freeze([
  'voltage', 'current', 'power', 'accel', 'anglvel', 'magn', 'illuminance', 'intensity', 'proximity',
  'temp', 'incli', 'rot', 'angl', 'timestamp', 'capacitance', 'altvoltage', 'cct', 'pressure',
  'humidityrelative', 'activity', 'steps', 'energy', 'distance', 'velocity', 'concentration',
  'resistance', 'ph', 'uvindex', 'electricalconductivity', 'count', 'index', 'gravity',
  'positionrelative', 'phase', 'massconcentration', 'deltaangl', 'deltavelocity', 'colortemp',
  'chromaticity', 'attention',
]);

/** `iio_modifier_names`: the sysfs name of each `enum iio_modifier` (index = enum value; 0 has none). */
export const IIO_MODIFIER_NAMES: readonly string[] = Object.freeze([
  '', 'x', 'y', 'z', 'x&y', 'x&z', 'y&z', 'x&y&z', 'x|y', 'x|z', 'y|z', 'x|y|z', 'both', 'ir',
  'sqrt(x^2+y^2)', 'x^2+y^2+z^2', 'clear', 'red', 'green', 'blue', 'quaternion', 'ambient', 'object',
  'from_north_magnetic', 'from_north_true', 'from_north_magnetic_tilt_comp', 'from_north_true_tilt_comp',
  'running', 'jogging', 'walking', 'still', 'sqrt(x^2+y^2+z^2)', 'i', 'q', 'co2', 'voc', 'uv', 'duv',
  'pm1', 'pm2p5', 'pm4', 'pm10', 'ethanol', 'h2', 'o2', 'linear_x', 'linear_y', 'linear_z', 'pitch',
  'yaw', 'roll', 'uva', 'uvb',
]);

/**
 * `iio_chan_info_postfix`: the postfixes of the core's info attributes (`IIO_CHAN_INFO_*`), the
 * names a driver can share by type, direction or device. Drivers add their own `ext_info` names.
 */
export const IIO_CHAN_INFO_POSTFIXES: readonly string[] = Object.freeze([
  'raw', 'input', 'scale', 'offset', 'calibscale', 'calibbias', 'peak_raw', 'peak_scale',
  'quadrature_correction_raw', 'mean_raw', 'filter_low_pass_3db_frequency', 'filter_high_pass_3db_frequency',
  'sampling_frequency', 'frequency', 'phase', 'hardwaregain', 'hysteresis', 'hysteresis_relative',
  'integration_time', 'en', 'calibheight', 'calibweight', 'debounce_count', 'debounce_time',
  'calibemissivity', 'oversampling_ratio', 'thermocouple_type', 'calibambient', 'zeropoint', 'trough_raw',
  'convdelay',
]);
