/**
 * The slice of `KeyManagementServiceClient` Sealkit uses, typed structurally (as the AWS
 * Encryption SDK does), so the real client, another SDK version or a test double all fit
 * without this module importing the SDK.
 */
export interface Int64Like {
  value?: number | string | { toString(): string } | null;
}

export interface KmsCallOptions {
  retry?: null;
  timeout?: number;
}

export interface KmsEncryptRequest {
  name: string;
  plaintext: Uint8Array;
  additionalAuthenticatedData: Uint8Array;
  plaintextCrc32c: { value: number };
  additionalAuthenticatedDataCrc32c: { value: number };
}

export interface KmsEncryptResponse {
  name?: string | null;
  ciphertext?: Uint8Array | string | null;
  ciphertextCrc32c?: Int64Like | null;
  verifiedPlaintextCrc32c?: boolean | null;
  verifiedAdditionalAuthenticatedDataCrc32c?: boolean | null;
  protectionLevel?: string | number | null;
}

export interface KmsDecryptRequest {
  name: string;
  ciphertext: Uint8Array;
  additionalAuthenticatedData: Uint8Array;
  ciphertextCrc32c: { value: number };
  additionalAuthenticatedDataCrc32c: { value: number };
}

export interface KmsDecryptResponse {
  plaintext?: Uint8Array | string | null;
  plaintextCrc32c?: Int64Like | null;
  usedPrimary?: boolean | null;
  protectionLevel?: string | number | null;
}

export interface KmsCryptoKey {
  name?: string | null;
  purpose?: string | number | null;
  primary?: { name?: string | null; state?: string | number | null; protectionLevel?: string | number | null } | null;
  versionTemplate?: { protectionLevel?: string | number | null; algorithm?: string | number | null } | null;
}

export interface KmsClientLike {
  encrypt(request: KmsEncryptRequest, options?: KmsCallOptions): Promise<readonly [KmsEncryptResponse, ...unknown[]]>;
  decrypt(request: KmsDecryptRequest, options?: KmsCallOptions): Promise<readonly [KmsDecryptResponse, ...unknown[]]>;
  getCryptoKey(request: { name: string }, options?: KmsCallOptions): Promise<readonly [KmsCryptoKey, ...unknown[]]>;
  initialize?(): Promise<unknown>;
  close?(): Promise<unknown>;
}

export interface GcpKmsProviderOptions {
  /** An injected client (tests, a client with custom auth, another transport). */
  client?: KmsClientLike;
  /**
   * Extra options for the `KeyManagementServiceClient` Sealkit creates (credentials,
   * `authClient`, `projectId`, ...). Sealkit sets `fallback: true` (REST) unless you override it.
   */
  clientOptions?: Record<string, unknown>;
  /**
   * Where Cloud KMS is: `https://host[:port]` or `http://127.0.0.1:port` (tests). Default:
   * `SEALKIT_GCP_KMS_ENDPOINT` when set, else the SDK's `cloudkms.googleapis.com`.
   */
  endpoint?: string;
  /** Per-call deadline when the caller passes no signal. Default 10 s. */
  timeoutMs?: number;
}

/** What `describeKey` reports (for `sealkit init`). */
export interface KeyDescription {
  readonly name: string;
  readonly purpose: string;
  readonly primary?: string;
  readonly primaryState?: string;
  readonly protectionLevel?: string;
}
