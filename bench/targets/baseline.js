'use strict';
// Express hello-world without authentication: the yardstick every ratio is taken against.
const { serve } = require('./common');

serve([], () => undefined);
