/**
 * The top-level commands as `quant --help` lists them, without loading their modules (loading every
 * command takes seconds; the list needs none of them). test/unit/cli/command-help.test.ts checks that
 * the help built from this table is the help of the full program, so a changed command fails there.
 */
export interface CommandHelp {
  readonly name: string;
  /** The command's term in the list, e.g. `query [options] <sql>`. */
  readonly term: string;
  readonly description: string;
}

export const COMMAND_HELP: readonly CommandHelp[] = [
  {
    name: 'local',
    term: 'local',
    description: 'start, stop and inspect the local cloud (S3, Kinesis, DynamoDB)',
  },
  { name: 'lake', term: 'lake', description: 'the data lake: import files' },
  {
    name: 'query',
    term: 'query [options] <sql>',
    description: 'run SQL over the lake tables (ticks, bars, backtest_results, ...)',
  },
  {
    name: 'demo',
    term: 'demo',
    description: 'run the main job on the local cloud: import, query, and every later phase (npm start)',
  },
  { name: 'risk', term: 'risk', description: 'Pre-trade risk checks and the trading state (kill switch)' },
  {
    name: 'paper',
    term: 'paper [options]',
    description: 'Paper-trade a strategy over bars: signals → risk → paper broker, on a simulated clock',
  },
  { name: 'algo', term: 'algo', description: 'Execution algorithm parents (TWAP, VWAP, POV)' },
  { name: 'feed', term: 'feed', description: 'CME MDP 3.0 feed handler: decode, simulate, run, replay' },
  {
    name: 'backtest',
    term: 'backtest',
    description: 'run one backtest (bars from a CSV/Parquet file or lake:SYMBOL); sub-commands below',
  },
  {
    name: 'sync',
    term: 'sync',
    description: 'vendor data sync: S3-to-S3 engine, DataSync tasks, estimates, vendor policies',
  },
  {
    name: 'ingest',
    term: 'ingest',
    description: 'market data: produce ticks into the stream and land them in the lake',
  },
  { name: 'bars', term: 'bars', description: 'bars from ticks' },
  {
    name: 'model',
    term: 'model',
    description: 'ONNX models: predict over a CSV of rows; the model registry',
  },
  {
    name: 'train',
    term: 'train [options]',
    description:
      'Train a model: --local (training script on CPU, evaluation, local registry) or --remote (the deployed state machine)',
  },
  {
    name: 'strategy',
    term: 'strategy',
    description: 'Promotion of strategies (and models) to environments; the strategy runner',
  },
  {
    name: 'dr',
    term: 'dr',
    description:
      'Disaster recovery: local backup, restore and restore drill; the failover steps to the DR standby',
  },
  {
    name: 'tca',
    term: 'tca [options]',
    description:
      'Transaction cost analysis of parent orders (implementation shortfall, slippage, participation)',
  },
];
