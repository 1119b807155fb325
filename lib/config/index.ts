export * from './types';
export * from './environments';
export * from './errors';
