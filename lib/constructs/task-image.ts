import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { packageRoot } from '../../src/package-root';

/**
 * An arm64 container image built from `ecs-tasks/<task>/Dockerfile` with the package as its context,
 * found from package.json (the CDK app also runs from the build in dist/). The context is an
 * allow-list: the runtime code, its build script, the lockfile and `include` (paths under the package).
 */
export function taskImage(task: string, include: readonly string[]): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(packageRoot(), {
    file: `ecs-tasks/${task}/Dockerfile`,
    platform: Platform.LINUX_ARM64,
    exclude: [
      '*',
      '.*',
      ...['package.json', 'package-lock.json', 'tsconfig.json', 'bin', 'bin/build.js', 'src', 'src/**'],
      ...include,
    ].map((p, i) => (i < 2 ? p : `!${p}`)),
  });
}
