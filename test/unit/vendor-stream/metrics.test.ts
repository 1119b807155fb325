import { describe, expect, it } from 'vitest';
import { VENDOR_KEY_ENV, VENDOR_KEY_SECRET_ENV } from '../../../src/contract/vendor-stream';
import { alpaca } from '../../../src/vendor-stream/alpaca';
import { polygon } from '../../../src/vendor-stream/polygon';
import { resolveVendorKey, vendorStreamEmf } from '../../../src/vendor-stream/service';

describe('vendor stream metrics (embedded metric format)', () => {
  it('names the contract metrics with units, dimensions service and vendor, and leaves out empty ones', () => {
    const line = JSON.parse(
      vendorStreamEmf(
        'polygon',
        { messages: 120, reconnects: 1, clockSkew: -4.5, endToEndLatency: null },
        1_767_225_600_000,
      ),
    ) as Record<string, unknown>;
    expect(line).toEqual({
      _aws: {
        Timestamp: 1_767_225_600_000,
        CloudWatchMetrics: [
          {
            Namespace: 'QuantPlatform',
            Dimensions: [['service', 'vendor']],
            Metrics: [
              { Name: 'MessagesReceived', Unit: 'Count' },
              { Name: 'Reconnects', Unit: 'Count' },
              { Name: 'ClockSkewMs', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: 'vendor-stream',
      vendor: 'polygon',
      MessagesReceived: 120,
      Reconnects: 1,
      ClockSkewMs: -4.5,
    });
  });
});

describe('vendor key', () => {
  it('from QUANT_VENDOR_KEY; a missing one names the variable', async () => {
    expect(await resolveVendorKey(polygon, { [VENDOR_KEY_ENV]: ' pk ' })).toEqual({ id: 'pk' });
    await expect(resolveVendorKey(alpaca, {})).rejects.toThrow(
      /^QUANT_VENDOR_KEY: not set; put the alpaca key in it as KEY_ID:SECRET/,
    );
  });

  it('from the secret when its ARN is set (AWS)', async () => {
    const asked: unknown[] = [];
    const key = await resolveVendorKey(
      alpaca,
      { [VENDOR_KEY_SECRET_ENV]: 'arn:s' },
      () =>
        ({
          send: async (cmd: { input: unknown }) => {
            asked.push(cmd.input);
            return { SecretString: 'AK:SEC' };
          },
        }) as never,
    );
    expect(key).toEqual({ id: 'AK', secret: 'SEC' });
    expect(asked).toEqual([{ SecretId: 'arn:s' }]);
  });
});
