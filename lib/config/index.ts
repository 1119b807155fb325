export * from './types';
export * from './environments';
export * from './errors';
export * from './schema';
export * from './training';
export * from './disaster-recovery';
