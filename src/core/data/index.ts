// The data layer's public surface.
export * from './types';
export { loadDataset, DEFAULT_MAX_PIXELS, type LoadOptions } from './load';
export { sampleEpisode, episodeAt, imagesByClass, validateForEpisodes } from './episodes';
export { DEFAULT_SPLIT_FRACTIONS, IDX10_SPLIT, readSplitFile, seededSplit, splitCountsFromFractions, type SplitCounts } from './splits';
export { readIdxFile, parseIdx, encodeIdx, findIdxPairs, readIdxPairs, gzipDeterministic } from './idx';
export { decodeImage, probeImage, convertChannels, resizeRaw, IMAGE_EXTENSIONS, type RawImage, type TargetShape } from './decode';
export { decodePng, encodePng } from './png';
export { decodeBmp, encodeBmp } from './bmp';
export { scanImageFolder } from './scan';
