'use strict';
// Express with one middleware that only calls next(): what any authentication middleware costs
// Express before it does any work, the floor of the hot scenario.
const { serve } = require('./common');

serve([(req, res, next) => next()], () => undefined);
