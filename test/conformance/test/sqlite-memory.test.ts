import { runConformanceSuite } from '@unblock/conformance';
import { only } from './adapters.js';

// One file per adapter so vitest runs them in parallel; filter: '' as ADAPTERS was applied.
runConformanceSuite(only('sqlite-memory'), { filter: '' });
