import { destination, pino, type Logger } from 'pino';

/**
 * The project's logger: JSON lines on stderr (stdout is for data), level from LOG_LEVEL (default `info`).
 * destination(2) writes synchronously, so a log line is never lost when the CLI exits.
 */
export const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: undefined }, destination(2));
