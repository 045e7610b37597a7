/**
 * The client the provider needs, structurally: anything with the SDK's `send`. The real
 * `KMSClient` fits, and so does any wrapper a test or an application wants to inject.
 */
export interface KmsClientLike {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface AwsKmsProviderOptions {
  /** One client for every region (tests, or an application that configures its own). */
  client?: KmsClientLike;
  /** A client per region, derived from each key ARN. Wins over the built-in clients. */
  clientFor?: (region: string) => KmsClientLike;
  /**
   * SDK attempts per call. Default: 1 when the caller passes an AbortSignal (the Sealkit
   * runtime, which retries with backoff itself), 3 (SDK standard retry) otherwise (CLI).
   */
  maxAttempts?: number;
  /** Extra `KMSClientConfig` for the built-in clients (credentials, endpoint, requestHandler...). */
  clientConfig?: Record<string, unknown>;
}
