'use strict';
module.exports = { report() {} };
