/** Remembers the last `capacity` ids of a key (a symbol): bounded memory, O(1) per id. */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly ring: string[] = [];
  private pos = 0;
  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ring.length < this.capacity) this.ring.push(id);
    else {
      this.ids.delete(this.ring[this.pos]);
      this.ring[this.pos] = id;
      this.pos = (this.pos + 1) % this.capacity;
    }
    this.ids.add(id);
  }
}
