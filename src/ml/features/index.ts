export * from './sql';
export * from './compute';
export * from './file';
