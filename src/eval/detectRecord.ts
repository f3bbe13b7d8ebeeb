import { ConfigError } from '../errors.js';
import type { DetectRecord } from './qrsDatabase.js';

/**
 * Runs the project's R-peak detector over one record (placeholder until the signal pipeline lands).
 */
export const detectRecordRPeaks: DetectRecord = async () => {
  throw new ConfigError('ECG_ERR_BAD_OPTION', 'the R-peak detector is not available yet: use --detections DIR --annotator NAME');
};
