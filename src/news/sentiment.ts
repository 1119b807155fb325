/**
 * Sentiment of a headline with the `sentiment` package (AFINN-165 word list with negation handling,
 * MIT, pure JavaScript: it bundles into the Lambda with no native part or model download).
 * `score` is the sum of the AFINN values (-5..5 per word) of the text, `comparative` that sum per
 * token, so long and short headlines compare.
 */
import Sentiment from 'sentiment';

const analyzer = new Sentiment();

export interface SentimentScore {
  readonly score: number;
  readonly comparative: number;
}

/** Scores the title and the description together (the description often carries the verdict). */
export function scoreArticle(title: string, description = ''): SentimentScore {
  const r = analyzer.analyze(description ? `${title}. ${description}` : title);
  return { score: r.score, comparative: Number.isFinite(r.comparative) ? r.comparative : 0 };
}
