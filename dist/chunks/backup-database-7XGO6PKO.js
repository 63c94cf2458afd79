import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a as i}from"./chunk-6A6EMUMS.js";import"./chunk-ORY6ZGEG.js";import{execFile as g}from"node:child_process";import{mkdirSync as p,renameSync as u,writeFileSync as f}from"node:fs";import{join as _}from"node:path";import{promisify as h}from"node:util";var y=h(g);function m(e,o){let t=`${e}.tmp-${process.pid}`;f(t,o),u(t,e)}var E=`
SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default
  FROM information_schema.columns c
 WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1, 2, c.ordinal_position`,$=`
SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`;async function S(e){p(e.dir,{recursive:!0});let o=e.at.toISOString().replace(/[:.]/g,"-"),t=_(e.dir,`${e.environment}-${e.version}-${o}`),s=new i.Client({connectionString:e.databaseUrl});await s.connect();try{let{schemaVersion:n}=e;try{let{stdout:r}=await y("pg_dump",["--schema-only","--no-owner",e.databaseUrl],{maxBuffer:268435456}),a=`${t}.schema.sql`;return m(a,r),{file:a,method:"pg_dump",schemaVersion:n,detail:`schema ${n??"empty"}; pg_dump --schema-only \u2192 ${a}`}}catch(r){let a=(r.stderr??r.message).trim().split(`
`)[0],l=await s.query(E),d=await s.query($),c=`${t}.catalog.json`;return m(c,`${JSON.stringify({schemaVersion:n,columns:l.rows,indexes:d.rows},null,2)}
`),{file:c,method:"catalog",schemaVersion:n,detail:`schema ${n??"empty"}; pg_dump unusable (${a}), catalogue snapshot \u2192 ${c}`}}}finally{await s.end()}}export{S as backupDatabase};
