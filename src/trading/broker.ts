/**
 * Broker adapters behind one interface. Every order carries a client order id (our orderId) so a
 * broker can deduplicate, and so an order whose submission timed out can be looked up instead of
 * being sent again.
 */
import { resolveCosts, type CostModel } from '../backtest/costs';
import type { Side } from '../risk/types';

export interface BrokerOrderRequest {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly qty: number;
  readonly limitPrice: number;
}

export type BrokerStatus = 'accepted' | 'filled' | 'partially_filled' | 'rejected' | 'canceled';

export interface BrokerOrder {
  readonly clientOrderId: string;
  readonly brokerOrderId: string;
  readonly status: BrokerStatus;
  readonly filledQty: number;
  /** Average fill price (0 when nothing filled). */
  readonly fillPrice: number;
  readonly reason?: string;
}

/** The broker did not answer in time: the order may or may not exist there. */
export class BrokerTimeout extends Error {
  constructor(clientOrderId: string, ms: number) {
    super(`broker did not answer within ${ms} ms for order ${clientOrderId}`);
    this.name = 'BrokerTimeout';
  }
}

export interface BrokerAdapter {
  readonly name: string;
  submit(order: BrokerOrderRequest): Promise<BrokerOrder>;
  /** Looks an order up by client order id (reconciliation); undefined when the broker has none. */
  lookup(clientOrderId: string): Promise<BrokerOrder | undefined>;
}

export interface Quote {
  /** Price to fill at before costs (the bar close at the order time). */
  readonly price: number;
  /** Daily return volatility for the impact term. */
  readonly sigma?: number;
  /** Average daily volume in shares for the impact term. */
  readonly adv?: number;
}

/**
 * Fills immediately and in full at the quote with the backtest cost model: the price moves
 * against the order by (commission + half spread + slippage) bps plus k·σ·√(qty/ADV).
 * No quote for the symbol: rejected (or, with `fillAtLimit`, filled at the limit plus costs).
 * Deduplicates by client order id like a real broker.
 */
export class PaperBroker implements BrokerAdapter {
  readonly name = 'paper';
  private readonly orders = new Map<string, BrokerOrder>();
  private readonly costs;
  private seq = 0;

  constructor(
    private readonly quote: (symbol: string) => Quote | undefined,
    costModel: CostModel = {},
    /** Without a quote, fill at the order's limit price plus costs (the limit is the reference). */
    private readonly fillAtLimit = false,
  ) {
    this.costs = resolveCosts(costModel);
  }

  async submit(o: BrokerOrderRequest): Promise<BrokerOrder> {
    const existing = this.orders.get(o.clientOrderId);
    if (existing) return existing;
    const q = this.quote(o.symbol) ?? (this.fillAtLimit ? { price: o.limitPrice } : undefined);
    const ids = { clientOrderId: o.clientOrderId, brokerOrderId: `paper-${++this.seq}` };
    let result: BrokerOrder;
    if (!q) {
      result = { ...ids, status: 'rejected', filledQty: 0, fillPrice: 0, reason: `no quote for ${o.symbol}` };
    } else {
      const impact =
        q.sigma !== undefined && q.adv ? this.costs.impactK * q.sigma * Math.sqrt(o.qty / q.adv) : 0;
      const sign = o.side === 'buy' ? 1 : -1;
      const px = q.price * (1 + sign * (this.costs.linear + impact));
      // Fills like the backtest: at the quote (the bar close) plus costs; the limit price is the
      // strategy's reference, not a cap (a real broker would use a marketable limit).
      result = { ...ids, status: 'filled', filledQty: o.qty, fillPrice: px };
    }
    this.orders.set(o.clientOrderId, result);
    return result;
  }

  async lookup(clientOrderId: string): Promise<BrokerOrder | undefined> {
    return this.orders.get(clientOrderId);
  }

  /** Orders seen so far (the paper blotter). */
  all(): BrokerOrder[] {
    return [...this.orders.values()];
  }
}

export interface RestBrokerOptions {
  /** Base URL, e.g. https://paper-api.example-broker.com */
  readonly baseUrl: string;
  readonly keyId: string;
  readonly secretKey: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

interface RestOrder {
  id: string;
  client_order_id: string;
  status: string;
  filled_qty: string;
  filled_avg_price: string | null;
}

/** The broker's order statuses we act on; any other is still working ('accepted'). */
const REST_STATUS: Readonly<Record<string, BrokerStatus>> = {
  filled: 'filled',
  partially_filled: 'partially_filled',
  rejected: 'rejected',
  canceled: 'canceled',
  expired: 'canceled',
};

/**
 * A REST adapter in the shape of a common retail broker API: `POST /v2/orders` with
 * `client_order_id`, `GET /v2/orders:by_client_order_id`, key headers. Keys come from Secrets
 * Manager in AWS (see `restBrokerFromSecret`).
 */
export class RestBroker implements BrokerAdapter {
  readonly name = 'rest';
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: RestBrokerOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.fetchFn = opts.fetch ?? globalThis.fetch;
  }

  private async call(method: string, path: string, clientOrderId: string, body?: unknown): Promise<Response> {
    try {
      return await this.fetchFn(new URL(path, this.opts.baseUrl), {
        method,
        headers: {
          'APCA-API-KEY-ID': this.opts.keyId,
          'APCA-API-SECRET-KEY': this.opts.secretKey,
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') {
        throw new BrokerTimeout(clientOrderId, this.timeoutMs);
      }
      throw err;
    }
  }

  private static toOrder(r: RestOrder): BrokerOrder {
    return {
      clientOrderId: r.client_order_id,
      brokerOrderId: r.id,
      status: Object.hasOwn(REST_STATUS, r.status) ? REST_STATUS[r.status] : 'accepted',
      filledQty: Number(r.filled_qty ?? 0),
      fillPrice: r.filled_avg_price === null ? 0 : Number(r.filled_avg_price),
    };
  }

  async submit(o: BrokerOrderRequest): Promise<BrokerOrder> {
    const res = await this.call('POST', '/v2/orders', o.clientOrderId, {
      symbol: o.symbol,
      qty: String(o.qty),
      side: o.side,
      type: 'limit',
      time_in_force: 'day',
      limit_price: o.limitPrice.toFixed(2),
      client_order_id: o.clientOrderId,
    });
    if (res.status === 422 || res.status === 403) {
      const text = await res.text();
      return {
        clientOrderId: o.clientOrderId,
        brokerOrderId: '',
        status: 'rejected',
        filledQty: 0,
        fillPrice: 0,
        reason: `broker ${res.status}: ${text.slice(0, 200)}`,
      };
    }
    if (!res.ok) throw new Error(`broker ${res.status} on submit of ${o.clientOrderId}`);
    return RestBroker.toOrder((await res.json()) as RestOrder);
  }

  async lookup(clientOrderId: string): Promise<BrokerOrder | undefined> {
    const res = await this.call(
      'GET',
      `/v2/orders:by_client_order_id?client_order_id=${encodeURIComponent(clientOrderId)}`,
      clientOrderId,
    );
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`broker ${res.status} on lookup of ${clientOrderId}`);
    return RestBroker.toOrder((await res.json()) as RestOrder);
  }
}
