/**
 * An account's book in DynamoDB: positions (whole shares), cash in integer cents and NAV marks.
 * One item per account (`BOOK#<account>` in the risk table) with a version: approving an order
 * reserves its quantity with a write conditional on the version that the risk check read, so two
 * concurrent executions can never both spend the same room under a limit.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RiskPortfolio } from '../risk/types';
import { bookKey } from '../contract/risk-table';

export interface BookPosition {
  /** Signed shares, approved orders included (reserved before they fill). */
  readonly qty: number;
  /** Last price the position was marked at. */
  readonly price: number;
}

export interface Book {
  readonly account: string;
  /** NAV in integer cents (money is never a summed float). */
  readonly navCents: number;
  readonly peakNavCents: number;
  readonly startOfDayNavCents: number;
  /** Cash in integer cents. */
  readonly cashCents: number;
  readonly positions: Readonly<Record<string, BookPosition>>;
  readonly locates?: Readonly<Record<string, number>>;
  /** UTC day (YYYY-MM-DD) of the last mark to market; a later day starts a new trading day. */
  readonly markDay?: string;
  readonly version: number;
}

export class BookConflict extends Error {
  constructor(account: string) {
    super(`book of ${account} changed since it was read`);
    this.name = 'BookConflict';
  }
}

export class BookStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(account: string): Promise<Book | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: bookKey(account) }, ConsistentRead: true }),
    );
    if (!r.Item) return undefined;
    const { pk: _pk, ...rest } = r.Item;
    return { ...(rest as Omit<Book, 'version'>), version: Number(r.Item.version) };
  }

  /** Creates a book with cash = NAV (fails if one exists). */
  async create(account: string, navCents: number): Promise<Book> {
    const book: Book = {
      account,
      navCents,
      peakNavCents: navCents,
      startOfDayNavCents: navCents,
      cashCents: navCents,
      positions: {},
      version: 1,
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: bookKey(account), ...book },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return book;
  }

  /** Writes `next` if the stored version is still `expected.version`; else throws BookConflict. */
  async replace(expected: Book, next: Omit<Book, 'version'>): Promise<Book> {
    const book: Book = { ...next, version: expected.version + 1 };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: bookKey(expected.account), ...book },
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': expected.version },
        }),
      );
      return book;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new BookConflict(expected.account);
      throw err;
    }
  }
}

/** The book as the risk engine sees it. */
export function bookToPortfolio(book: Book, state: RiskPortfolio['state']): RiskPortfolio {
  return {
    nav: book.navCents / 100,
    state,
    peakNav: book.peakNavCents / 100,
    startOfDayNav: book.startOfDayNavCents / 100,
    locates: book.locates,
    positions: Object.entries(book.positions)
      .filter(([, p]) => p.qty !== 0)
      .map(([symbol, p]) => ({ symbol, qty: p.qty, price: p.price })),
  };
}

/** Position after adding `delta` shares of `symbol` marked at `price`. */
export function withPosition(
  book: Book,
  symbol: string,
  delta: number,
  price: number,
): Omit<Book, 'version'> {
  const prev = book.positions[symbol]?.qty ?? 0;
  return { ...book, positions: { ...book.positions, [symbol]: { qty: prev + delta, price } } };
}

/**
 * Marks the book to market at `prices` (integer cents): NAV = cash + Σ qty × price. When `day`
 * (UTC, YYYY-MM-DD) is later than the last mark's day, the previous NAV becomes the start-of-day
 * NAV (daily loss is measured from it); an earlier day (a late signal) never moves it back.
 * Retries on a concurrent change.
 */
export async function markToMarket(
  books: BookStore,
  account: string,
  prices: Readonly<Record<string, number>>,
  day: string,
): Promise<Book> {
  for (let attempt = 0; attempt < 25; attempt++) {
    const book = await books.get(account);
    if (!book) throw new Error(`account ${account}: no book`);
    const positions: Record<string, BookPosition> = {};
    let valueCents = 0;
    let repriced = false;
    for (const [symbol, p] of Object.entries(book.positions)) {
      const price = prices[symbol] ?? p.price;
      if (price !== p.price) repriced = true;
      positions[symbol] = { qty: p.qty, price };
      valueCents += (p.qty < 0 ? -1 : 1) * Math.round(Math.abs(p.qty) * price * 100);
    }
    const navCents = book.cashCents + valueCents;
    const newDay = book.markDay !== undefined && day > book.markDay;
    // Nothing to write (same marks, same NAV, same day): save the conditional put.
    if (!repriced && !newDay && navCents === book.navCents && book.markDay === day) return book;
    try {
      return await books.replace(book, {
        ...book,
        positions,
        navCents,
        peakNavCents: Math.max(book.peakNavCents, navCents),
        startOfDayNavCents: newDay ? book.navCents : book.startOfDayNavCents,
        markDay: book.markDay === undefined || day > book.markDay ? day : book.markDay,
      });
    } catch (err) {
      if (!(err instanceof BookConflict)) throw err;
    }
  }
  throw new Error(`book of ${account}: too contended to mark`);
}
