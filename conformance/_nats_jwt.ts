// Decentralized (JWT) NATS auth for the tests: an operator, its accounts and their users, made and signed here per
// run, a nats-server configuration that trusts the operator, and .creds files for the users.

import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";

const HEADER = { typ: "JWT", alg: "ed25519-nkey" };

// Every limit off (-1), as nsc writes them: nats-server reads a limit left out as 0, and 0 means none allowed (an
// account without these never finished a connect here; a user without them could publish no payload at all).
const NO_LIMITS = { subs: -1, data: -1, payload: -1 };
const NO_ACCOUNT_LIMITS = { ...NO_LIMITS, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

function base64url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString("base64url");
}

/** A JWT with `nats` claims about `subject`, signed by `issuer` (the way nats-io/jwt v2 encodes them). */
function signJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims = {
    jti: randomBytes(20).toString("hex").toUpperCase(),
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  const signed = `${base64url(JSON.stringify(HEADER))}.${base64url(JSON.stringify(claims))}`;
  return `${signed}.${base64url(issuer.sign(new TextEncoder().encode(signed)))}`;
}

/** The text of a .creds file: the user's JWT and the seed it signs the server's nonce with. */
export function credsText(jwt: string, seed: string): string {
  return `-----BEGIN NATS USER JWT-----
${jwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------

*************************************************************
`;
}

/** An account: its key pair and its JWT, signed by the operator. */
export interface JwtAccount {
  readonly keys: KeyPair;
  readonly jwt: string;
}

/** A user of an account: its key pair and its JWT, signed by the account. */
export interface JwtUser {
  readonly keys: KeyPair;
  readonly jwt: string;
}

/** An operator and what the tests make with it, in a temporary folder that `remove()` deletes. */
export interface JwtOperator {
  /** The folder its files go to. */
  readonly dir: string;
  /** A new account signed by this operator. */
  account(name: string): JwtAccount;
  /** A new user of `account`, signed by it. */
  user(account: JwtAccount, name: string): JwtUser;
  /**
   * Writes a nats-server configuration (for `-c`) that trusts this operator and knows `accounts` (a memory
   * resolver, preloaded); returns its path. Address and port come from the command line.
   */
  serverConfig(accounts: readonly JwtAccount[]): string;
  /** Writes a .creds file of `jwt` and `seed` (a user's own, or another one's), returning its path. */
  credsFile(name: string, jwt: string, seed: string): string;
  remove(): void;
}

/** Makes an operator (self-signed, as nsc makes them) with a temporary folder for its files. */
export function jwtOperator(): JwtOperator {
  const dir = mkdtempSync(join(tmpdir(), "procpool-jwt-"));
  const operator = createOperator();
  const operatorJwt = signJwt(operator, operator.getPublicKey(), "procpool test operator", { type: "operator" });
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return {
    dir,
    account(name) {
      const keys = createAccount();
      const jwt = signJwt(operator, keys.getPublicKey(), name, {
        type: "account",
        limits: NO_ACCOUNT_LIMITS,
        default_permissions: { pub: {}, sub: {} },
      });
      return { keys, jwt };
    },
    user(account, name) {
      const keys = createUser();
      const jwt = signJwt(account.keys, keys.getPublicKey(), name, { type: "user", pub: {}, sub: {}, ...NO_LIMITS });
      return { keys, jwt };
    },
    serverConfig(accounts) {
      const operatorFile = write("operator.jwt", operatorJwt);
      const preload = accounts.map((a) => `  ${a.keys.getPublicKey()}: ${a.jwt}`).join("\n");
      return write(
        "server.conf",
        `operator: ${JSON.stringify(operatorFile)}\nresolver: MEMORY\nresolver_preload: {\n${preload}\n}\n`,
      );
    },
    credsFile(name, jwt, seed) {
      return write(name, credsText(jwt, seed));
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A user's seed as text, for a .creds file. */
export function seedOf(keys: KeyPair): string {
  return new TextDecoder().decode(keys.getSeed());
}
