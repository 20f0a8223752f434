/**
 * Child process of ports-allocator.test.ts: waits until argv[3] (epoch ms) so
 * both children race, reserves argv[4] ports from the range argv[5]-argv[6] in
 * the reservations folder argv[2], prints them as a JSON array, and stays
 * alive holding them until its stdin closes (a dead owner's reservations may
 * be reclaimed, so exiting early would let the other child take them over).
 */
import { PortAllocator } from "../../../src/ports";

async function main(): Promise<void> {
  const [dir, startAt, count, from, to] = process.argv.slice(2);
  const allocator = new PortAllocator({ cluster: `child-${process.pid}`, dir, ranges: [{ from: Number(from), to: Number(to) }] });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const ports: number[] = [];
  for (let i = 0; i < Number(count); i++) ports.push(await allocator.allocate());
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
