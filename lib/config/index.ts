export * from './types';
export * from './environments';
export * from './errors';
export * from './training';
