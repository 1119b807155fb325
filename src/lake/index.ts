export * from '../contract/lake';
export * from './buckets';
export * from './writer';
export * from './query';
export * from './bars';
