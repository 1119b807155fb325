/**
 * The project's own SBE schema: the MDP 3.0 templates the simulator, the demo, the book builders
 * and the TCP replay use, wire-compatible with CME's templates_FixBinary.xml version 13 for those
 * templates (see the file's header). The default wherever a schema path is optional; real traffic
 * should be decoded with CME's own file, passed as configuration.
 */
import path from 'node:path';
import { packageRoot } from '../package-root';

// From the package root, not this file: the same code runs from src/ and from the build in dist/.
export const PROJECT_SCHEMA_PATH = path.join(packageRoot(), 'schemas/mdp3/quant-mdp3.xml');
