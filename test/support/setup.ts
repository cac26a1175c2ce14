/**
 * Mocha's one shared setup (`.mocharc.json` requires it before any spec): installs the recording mock engine once,
 * before any program module is imported, because Pulumi allows one mock monitor per process.
 */
import { installMockEngine } from "../../scripts/plan/mock-engine";

void installMockEngine();
