/**
 * What makes an HTML report fetch something when opened: a URL in a src or href attribute, an
 * external script, a style sheet link, an image, a CSS import or url(). The reports must have none
 * (they open offline); the SVG namespace in xmlns is an identifier and is not fetched.
 */
export const FETCHES =
  /(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\/|<script[^>]*\ssrc|<link|<img|@import|url\(/i;

/** Any http(s) URL other than the SVG namespace. */
export const ANY_URL = /https?:\/\/(?!www\.w3\.org\/2000\/svg")/;
