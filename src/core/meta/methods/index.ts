// The registry of methods, by config name.
import { MethodName } from '../../config';
import { Method } from '../common';
import { adml } from './adml';
import { aq } from './aq';
import { maml } from './maml';
import { mavrl } from './mavrl';
import { rmaml } from './rmaml';
import { rocl } from './rocl';

export const METHOD_IMPLS: Record<MethodName, Method> = { mavrl, maml, aq, adml, rmaml, rocl };
