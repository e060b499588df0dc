/**
 * Writes a directory of files the way the kubelet writes Secret and ConfigMap volumes and
 * cert-manager's csi-driver writes its certificates (the kubelet's AtomicWriter): the files go
 * into a fresh timestamped directory `..2024_01_02_03_04_05.123456789`, a symlink `..data_tmp`
 * to it is renamed over `..data` (one atomic rename swaps every file at once), each visible name
 * is a symlink `tls.crt -> ..data/tls.crt`, and the previous directory is removed.
 */
export async function writeProjection(
  dir: string,
  files: Readonly<Record<string, string>>,
  options: { uid?: number } = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const previous = await Deno.readLink(`${dir}/..data`).catch(() => undefined);
  // 2024-01-02T03:04:05.678Z -> 2024_01_02_03_04_05.678 and six random digits (nanoseconds' place).
  const stamp = new Date().toISOString().replace(/[-:T]/g, "_").replace("Z", "") +
    String(crypto.getRandomValues(new Uint32Array(1))[0] % 1_000_000).padStart(6, "0");
  const fresh = `..${stamp}`;
  await Deno.mkdir(`${dir}/${fresh}`, { mode: 0o755 });
  for (const [name, content] of Object.entries(files)) {
    const path = `${dir}/${fresh}/${name}`;
    await Deno.writeTextFile(path, content, { mode: 0o440 });
    await Deno.chmod(path, 0o440);
    if (options.uid !== undefined) await Deno.chown(path, options.uid, options.uid);
  }
  await Deno.remove(`${dir}/..data_tmp`).catch(() => {});
  await Deno.symlink(fresh, `${dir}/..data_tmp`);
  await Deno.rename(`${dir}/..data_tmp`, `${dir}/..data`);
  for (const name of Object.keys(files)) {
    const link = `${dir}/${name}`;
    const target = await Deno.readLink(link).catch(() => undefined);
    if (target !== `..data/${name}`) {
      await Deno.remove(link).catch(() => {});
      await Deno.symlink(`..data/${name}`, link);
    }
  }
  if (previous && previous !== fresh) await Deno.remove(`${dir}/${previous}`, { recursive: true });
}
