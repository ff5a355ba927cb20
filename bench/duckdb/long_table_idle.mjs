// The peer on the long table: DuckDB reads time,machine,gpu,util,memory and prices each
// sample below 5 % until the GPU's next one (lead() over each GPU, capped at 5 minutes) —
// the SQL an analyst would write for the audit's headline figure. Prints the figure and the
// samples read. Used by bench/formats_bench.sh.
// node bench/duckdb/long_table_idle.mjs LONG.csv USD_PER_GPU_HOUR
import { DuckDBInstance } from "@duckdb/node-api";

const [file, price] = process.argv.slice(2);
const db = await DuckDBInstance.create(":memory:");
const connection = await db.connect();
const reader = await connection.runAndReadAll(`
  with s as (select time::timestamp as t, machine, gpu, util from read_csv('${file}', header = true)),
  d as (select *, lead(t) over (partition by machine, gpu order by t) as next_t from s)
  select sum(case when util < 5
                  then least(epoch_ms(coalesce(next_t, t)) - epoch_ms(t), 300000) else 0 end)
           / 3600000.0 * ${Number(price)} as below_threshold_usd,
         count(*) as samples
  from d`);
console.log(JSON.stringify(reader.getRowObjectsJson()[0]));
