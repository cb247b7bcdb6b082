import { runConformanceSuite } from '@unblock/conformance';
import { descriptor } from '../dist/descriptor.js';

runConformanceSuite(descriptor);
