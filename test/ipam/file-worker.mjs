// Child process for the file-store race test: runs an allocator from the compiled sources
// (argv: build dir, state dir, node name, rounds) and prints the addresses it holds at the end.
const [build, dir, nodeName, rounds] = process.argv.slice(2);
const { FileStore } = await import(`${build}/ipam/file-store.js`);
const { Allocator, IpamError } = await import(`${build}/ipam/allocator.js`);
const pools = [{
  apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p', labels: {}, annotations: {} },
  spec: { cidr: '10.5.0.0/26', blockSize: 29, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false, disableBGPExport: false },
  origin: { file: 'worker', document: 1 },
}];
const a = new Allocator({ store: new FileStore(dir), pools: () => pools });
const held = new Set();
for (let k = 0; k < Number(rounds); k++) {
  try {
    for (const ip of await a.autoAssign({ node: { name: nodeName, labels: {} }, handle: `${process.pid}-${k}` })) held.add(ip);
  } catch (e) {
    if (!(e instanceof IpamError && e.code === 'exhausted')) throw e;
  }
  if (k % 4 === 3) for (const ip of await a.releaseByHandle(`${process.pid}-${k - 2}`)) held.delete(ip);
}
process.stdout.write(JSON.stringify([...held]) + '\n');
