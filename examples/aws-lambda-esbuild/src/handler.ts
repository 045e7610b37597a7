import { secret } from "@sealkit/runtime";
import { connectionString } from "./db.js";

interface Result {
  statusCode: number;
  body: string;
}

/** The Lambda handler. The first secret() of a cold start unwraps the data key once. */
export async function handler(): Promise<Result> {
  const url = await connectionString();
  const apiKey = await secret("api-key");
  return {
    statusCode: 200,
    body: JSON.stringify({ database: url.replace(/:[^:@/]+@/, ":***@"), apiKeyLength: apiKey.length }),
  };
}

/** The values themselves, for the example's end-to-end test. */
export async function config(): Promise<Record<string, string>> {
  return { "db-password": await secret("db-password"), "api-key": await secret("api-key") };
}
