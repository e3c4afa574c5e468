/**
 * Creates the embedded database's files in a directory that has none (PostgreSQL's initdb, in
 * WebAssembly), then exits. embeddedDatabase.ts runs it as a short-lived child process on a
 * first start: initdb's memory (about 450 MiB, which the WebAssembly engine never gives back)
 * then leaves with the child, and the gateway holds only what serving needs.
 *
 * Usage: node initEmbeddedDatabase.js <directory>
 */
import { PGlite } from "@electric-sql/pglite";
import { startParams } from "./embeddedProtocol.js";

const directory = process.argv[2];
if (directory === undefined) throw new Error("usage: initEmbeddedDatabase <directory>");
const db = await PGlite.create({ dataDir: directory, startParams: startParams(PGlite.defaultStartParams) });
await db.close();
