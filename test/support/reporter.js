'use strict';
// The spec reporter, plus the closing line CI reads: "tests: N passed, N failed".
const Mocha = require('mocha');

class TesseraReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures } = runner.stats;
      process.stdout.write(`\ntests: ${passes} passed, ${failures} failed\n`);
    });
  }
}

module.exports = TesseraReporter;
