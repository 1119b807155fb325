export * from './quant-key';
export * from './secure-bucket';
export * from './encrypted-log-group';
export * from './quant-function';
export * from './encrypted-table';
export * from './acknowledge-wildcards';
