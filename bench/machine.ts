/** What the benchmark ran on: printed with every result, since numbers mean nothing without it. */
import { cpus, release, totalmem } from 'node:os'

export interface Machine {
  cpu: string
  cores: number
  node: string
  kernel: string
  memoryGiB: number
}

export function describeMachine(): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  }
}

export function machineLine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}`
}
