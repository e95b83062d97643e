import { ArenaStore } from './arena-store.js'
import { runStoreConformance } from './conformance.js'

runStoreConformance('arena', async () => new ArenaStore({ budgetBytes: 16 << 20 }), { survivesRestart: false })
