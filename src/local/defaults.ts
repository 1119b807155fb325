/**
 * The local cloud's defaults, apart from src/local/cloud.ts so that code needing only these names
 * (the CLI's option handling, the batch task) does not load the code that starts the stand-ins.
 */
export const DEFAULT_DATA_DIR = '.quant';
export const LOCAL_REGION = 'us-east-1';
