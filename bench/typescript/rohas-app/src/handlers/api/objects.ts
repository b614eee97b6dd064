// GET /objects: build 100 small objects and return them.
import { Item } from "../../generated/api/Objects";

export async function handler(): Promise<Item[]> {
  const items: Item[] = [];
  for (let i = 0; i < 100; i++) {
    items.push({ id: i, name: `item-${i}`, price: i * 1.5, active: i % 2 === 0, tags: ["bench", "rohas"] });
  }
  return items;
}
