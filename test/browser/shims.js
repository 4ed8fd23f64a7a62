// Node globals the wallet packages picket-js bundles expect in a browser (esbuild's `inject`).
import { Buffer } from 'buffer';
import process from 'process';

export { Buffer, process };
