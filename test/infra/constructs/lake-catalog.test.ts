import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { LakeCatalog } from '../../../lib/constructs';
import { TABLES } from '../../../src/contract/lake';
import { nagViolations, resourcesOfType } from '../helpers';
import { constructFixture, type ConstructFixture } from './fixture';

let f: ConstructFixture;
let t: Template;
beforeAll(() => {
  f = constructFixture();
  const catalog = new LakeCatalog(f.stack, 'Catalog', {
    environmentName: 'Test-1',
    buckets: f.zones.buckets,
    resultsKey: f.zones.lakeKey,
    projectionStart: '2018-01-01',
  });
  catalog.grantQuery(new iam.Role(f.stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() }), [
    f.zones.buckets.curated,
  ]);
  t = Template.fromStack(f.stack);
});

describe('LakeCatalog', () => {
  it('names the database and workgroup after the environment', () => {
    t.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'quant_test_1' } });
    t.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'quant-test-1', RecursiveDeleteOption: false });
  });

  it('one projected table per contract table, each after the database, none written twice', () => {
    const tables = resourcesOfType(t, 'AWS::Glue::Table');
    expect(tables.map(([, r]) => (r.Properties!.TableInput as { Name: string }).Name).sort()).toEqual(
      TABLES.map((x) => x.name).sort(),
    );
    for (const [id, r] of tables) {
      expect(r.DependsOn, id).toEqual([expect.stringMatching(/Database/)]);
      expect((r.Properties!.TableInput as { Parameters: Record<string, string> }).Parameters).toMatchObject({
        'projection.enabled': 'true',
        'parquet.compression': 'ZSTD',
      });
    }
  });

  it('the workgroup enforces KMS-encrypted results, engine 3 and a 1 TB default scan cutoff', () => {
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1_000_000_000_000,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' } },
      },
    });
  });

  it('grantQuery: Athena on the workgroup, Glue reads on the database, nothing written to the catalog', () => {
    const [, policy] = resourcesOfType(t, 'AWS::IAM::Policy').find(([id]) =>
      id.startsWith('AnalystDefaultPolicy'),
    )!;
    const actions = JSON.stringify(policy.Properties!.PolicyDocument);
    expect(actions).toContain('athena:StartQueryExecution');
    expect(actions).toContain('glue:GetTable');
    expect(actions).not.toMatch(/glue:(Create|Update|Delete)/);
  });

  it('has no unacknowledged cdk-nag findings but the analyst probe role wildcards (AwsSolutions, NIST 800-53 R5)', () => {
    expect(nagViolations(f.stack).filter((v) => !v.path.includes('/Analyst/'))).toEqual([]);
    expect(nagViolations(f.stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
