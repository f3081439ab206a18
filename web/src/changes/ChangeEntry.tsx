/** 異動入力: this area's screens. */
import type { AreaProps } from '../areas.js';

export function ChangeEntry(_props: AreaProps) {
  return (
    <section>
      <h1>異動入力</h1>
      <p>この画面は準備中です。</p>
    </section>
  );
}
