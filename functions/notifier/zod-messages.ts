/**
 * zod/mini (used on the Lambda's import path because classic zod adds ~440 KB to the
 * bundle and its import dominates cold start) ships without messages; load English ones
 * so a rejected record or a bad setting reads "expected string, received number".
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

z.config(en());
