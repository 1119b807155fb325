export * from './types';
export * from './environments';
