// kemi-proxy adaptation of drachtio-srf test/sipp.js: local sipp from 172.29.0.11 (in the network namespace) instead of a docker container.
const { spawn } = require('child_process');
const obj = {};
let output = '';
let idx = 1;
module.exports = () => obj;
obj.output = () => output;
obj.sippUac = (file) => {
  const args = ['-sf', `${__dirname}/scenarios/${file}`, '-i', '172.29.0.11', '-m', '1', '-sleep', '250ms',
    '-nostdin', '-timeout', '60s', '-timeout_error', '-cid_str', `%u-%p@%s-${idx++}`, '172.29.0.10:5060'];
  output = '';
  return new Promise((resolve, reject) => {
    const cp = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    cp.stdout.on('data', (d) => { output += d.toString(); });
    cp.stderr.on('data', (d) => { output += d.toString(); });
    cp.on('exit', (code, signal) => {
      console.log(`# sipp ${file} exit ${code}`);
      if (code === 0) return resolve();
      console.log(`sipp exited with non-zero code ${code} signal ${signal}`);
      reject(code);
    });
  });
};
