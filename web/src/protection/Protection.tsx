/** 抑止・支援措置: this area's screens. */
import type { AreaProps } from '../areas.js';

export function Protection(_props: AreaProps) {
  return (
    <section>
      <h1>抑止・支援措置</h1>
      <p>この画面は準備中です。</p>
    </section>
  );
}
