/**
 * The whole API as one frozen object, for `import tokenGate from 'express-token-gate'`: the same
 * object from `import` and from `require('express-token-gate').default`. Named imports are the
 * usual way. Built from the module of named exports, so it holds every runtime export and nothing else.
 */
import * as api from './api';

const tokenGate: Readonly<typeof api> = Object.freeze({ ...api });
export default tokenGate;
