import { parentPort, workerData } from "node:worker_threads";
import { readReleaseFolder } from "./read-releases.js";

/** A worker thread's share of the release folders (see readReleases). */
const { root, folders } = workerData as { root: string; folders: string[] };
parentPort?.postMessage(folders.map((folder) => readReleaseFolder(root, folder)));
