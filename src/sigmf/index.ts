// SigMF recordings (scope.md C): what `iio read -f sigmf` writes, `iio write -f sigmf` plays and
// the scope's recorder downloads.
export { parseSigmfDatatype, sigmfSampleType, type SigmfSampleType } from './datatype.js';
export { openSigmf, sigmfPaths, sigmfScans, type SigmfDataset } from './dataset.js';
export { recordedChannels, recordingInfo } from './device-info.js';
export { isIqPairs, SIGMF_NAMESPACE, SIGMF_VERSION, SigmfRecording, type RecordedChannel, type RecordingInfo } from './recording.js';
export { SigmfFiles, StreamRecorder, type RecordingSink } from './writer.js';
