import { VENDOR_KEY_ENV } from '../contract/vendor-stream';
import { InputError } from '../errors';

/**
 * The vendor refused the key (wrong, expired or revoked). A user mistake, not a fault: the CLI
 * exits 2 with this message; the service counts `AuthFailures` (alarmed) before it exits.
 */
export class VendorAuthError extends InputError {
  constructor(vendor: string, detail: string, whenReconnecting: boolean) {
    super(
      `${vendor} refused the key${whenReconnecting ? ' it had accepted before (expired or revoked?)' : ''}: ${detail}. ` +
        `Check ${VENDOR_KEY_ENV} (locally) or the key's secret in Secrets Manager (AWS).`,
      VENDOR_KEY_ENV,
    );
    this.name = 'VendorAuthError';
  }
}

/** The vendor refused the request itself (a subscription the plan lacks, a bad request). */
export class VendorRequestError extends InputError {
  constructor(vendor: string, detail: string) {
    super(`${vendor} refused the request: ${detail}`, 'vendor');
    this.name = 'VendorRequestError';
  }
}
