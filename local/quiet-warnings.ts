/**
 * Imported first by `start.ts`: the AWS SDK warns at load time that its releases after
 * January 2027 need Node 22. That is not news at every start; other warnings still print.
 */
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'NodeVersionSupportWarning' && !w.message.includes('NodeVersionSupportWarning')) process.stderr.write(`${w.name}: ${w.message}\n`);
});
